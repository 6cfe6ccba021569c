"""Rendering the inventory's Jinja2 templates, and mapping rendered lines back to them."""
