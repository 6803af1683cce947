"""The site as a whole: the home page, the health check, and the commands that run the whole of it
(``serve``, ``load_demo``). The top floor of the apps: it may use any of them, none uses it."""
