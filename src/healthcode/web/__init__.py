"""The HTTP face of healthcode: the API routers per audience and the server-rendered pages."""
