// Forms marked data-locate need the shopper's position: the browser reports WGS-84 (the forms say so in
// their datum field); without a position the form is not sent and its [data-locate-failed] note shows.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("form[data-locate]") || form.lat.value) return;
  event.preventDefault();
  const failed = () => { form.querySelector("[data-locate-failed]").hidden = false; };
  if (!navigator.geolocation) return failed();
  navigator.geolocation.getCurrentPosition((pos) => {
    form.lat.value = pos.coords.latitude.toFixed(6);
    form.lng.value = pos.coords.longitude.toFixed(6);
    form.submit();
  }, failed, {timeout: 10000, maximumAge: 300000});
});
