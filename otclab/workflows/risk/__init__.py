"""Real-time risk: market feeds, the refresh (book value, Greeks, scenario grid, views, limits),
alerts, and the refresh service that runs it on a schedule."""
