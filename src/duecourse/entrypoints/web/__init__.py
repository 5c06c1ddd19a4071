"""The web app: desk logins, the client's portal, and the notice endpoint."""
