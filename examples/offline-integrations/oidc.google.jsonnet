local claims = std.extVar('claims');
{
  identity: {
    traits: {
      email: claims.email,
      display_name: claims.name,
    },
  },
}
