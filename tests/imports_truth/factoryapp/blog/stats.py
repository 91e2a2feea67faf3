def summary():
    return {"posts": 0}
