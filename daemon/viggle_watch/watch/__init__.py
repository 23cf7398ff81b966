"""Watching input folders: events and scans feed a settle tracker that yields stable files."""
