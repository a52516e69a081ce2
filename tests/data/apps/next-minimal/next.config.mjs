/** The user's own config: says nothing of `output`, which pare's build sets to standalone. */
const config = { poweredByHeader: false };

export default config;
