"""The web page served at ``/``: plain HTML, CSS and JavaScript in ``static/``, no build step."""
