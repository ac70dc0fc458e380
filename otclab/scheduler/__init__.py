"""The validation scheduler: template notebooks validated nightly and whenever one changes."""
