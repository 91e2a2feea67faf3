def usage():
    return "usage: dbtool init|migrate|status"
