def export_posts():
    return "title,body\n"
