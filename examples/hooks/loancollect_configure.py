from loancollect import hookimpl

SETTINGS = {}


@hookimpl
def loancollect_configure(config):
    SETTINGS["gateway"] = config.get("acme-sms.gateway", "https://sms.example.com")
