NAME = 'slow_json'
