"""Views of the monitoring app, one module per screen."""
