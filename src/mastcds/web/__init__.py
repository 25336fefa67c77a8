"""The web application: pages, JSON API, CDS Hooks service, authentication."""
