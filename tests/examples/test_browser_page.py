from playwright.sync_api import expect


def test_signed_in_page(customer_page, customer):
    customer_page.goto("/customer/dashboard")
    expect(customer_page.get_by_test_id("current-user")).to_contain_text(customer.name)
