"""CRM sync for loancollect."""
