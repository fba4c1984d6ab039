"""factdesk: cited answers over a body of news articles."""

__version__ = "0.1.0"
