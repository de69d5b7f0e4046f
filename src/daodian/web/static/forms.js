// Choices that fill in a hidden field of their form: a radio with data-sets-voucher-code puts its code in the
// form's voucher_code when chosen (the booking form), without an inline handler the page's CSP would refuse.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (input.dataset && input.dataset.setsVoucherCode !== undefined && input.form && input.form.voucher_code) {
    input.form.voucher_code.value = input.dataset.setsVoucherCode;
  }
});
