"""Views of the case-work app, one module per screen."""
