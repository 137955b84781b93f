"""Adapters: one module per CRM protocol (Odoo XML-RPC, Salesforce-style REST)."""
