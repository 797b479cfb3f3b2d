function(ctx) {
  identity_id: ctx.identity.id,
  email: ctx.identity.traits.email,
}
