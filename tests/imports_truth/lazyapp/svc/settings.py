LOG_LEVEL = "INFO"
ROUTES = ("/", "/upload", "/reports")
