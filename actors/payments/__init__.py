"""Payments through providers: the port (``provider``), PromptPay QR (``promptpay``), card
terminals and their simulator (``card``), the store's choice of them (``registry``), signed
callbacks (``callback``) and the gateway's desk that drives a tender's life (``desk``)."""
