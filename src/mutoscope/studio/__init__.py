"""The studio: accounts, sessions and page logic for the web app (routes: ``api/studio.py``)."""
