def handlers():
    return {404: lambda e: ("not found", 404)}
