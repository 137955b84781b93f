"""The pure core of loancollect.

Modules here import only attrs, pendulum, holidays and the standard library (a
test enforces it). They never read the clock, the network or files, and never
call a hook: they take values and return values.
"""
