NAME = 'modern'
