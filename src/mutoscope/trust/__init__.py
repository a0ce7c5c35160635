"""Trust: organisations and their claims, first admin, rate limits, trusted hosts, pseudonyms."""
