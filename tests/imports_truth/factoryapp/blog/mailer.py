def deliver(message):
    print("sending", message)
