from loancollect import hookimpl
from loancollect.registry import TemplateSpec


@hookimpl
def loancollect_register_templates():
    return [
        TemplateSpec(
            name="thank_you",
            channel="sms",
            locale="en_US",
            source="Thank you, {{ borrower_name }}. Next: {{ amount_due }} "
            "by {{ due_date }}. {{ how_to_pay }}",
        )
    ]
