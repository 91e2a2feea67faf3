NAME = 'never_fallback'
