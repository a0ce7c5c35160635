from mutoscope.cli import main

main()
