"""The web application on top of the web room: pages, the archive, the console, the API."""
