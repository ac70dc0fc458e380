"""Dashboards: widgets that read what the services stored; no pricing of their own."""
