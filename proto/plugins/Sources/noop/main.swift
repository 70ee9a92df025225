// Depends on the plugins so that one build produces both.
