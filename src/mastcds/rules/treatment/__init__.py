"""Treatment: the escalation ladder of anti-mediator therapy and the response to each treatment."""
