const route = window.location.pathname;
document.querySelector("#app").textContent = `Hello from a Vite single-page app at ${route}`;
