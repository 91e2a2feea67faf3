"""The weekly report: one line per user."""


def render(users):
    lines = [f"{user['id']:>4}  {user['name']}" for user in users]
    return "weekly report\n" + "\n".join(lines) + "\n"
