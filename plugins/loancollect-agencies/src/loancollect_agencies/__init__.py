"""Outside collection agencies for loancollect."""
