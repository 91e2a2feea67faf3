NAME = 'loaded'
