"""A simulated phone network: a local stand-in for Twilio.

The real app talks to it through the official `twilio` SDK (pointed at `Simulator.url`)
and it calls the app's webhooks exactly as Twilio does: signed form POSTs with Twilio's
field names, TwiML followed verb by verb, conferences, scripted people on the phones.

    sim = Simulator(SimulatorConfig(app_url=..., account_sid=..., auth_token=..., number=...)).start()
    SimulatorClient(sim.url).place_call("+12125550111", sim.config.number, inputs=[{"digits": "1#"}])
    sim.stop()
"""

from simulator.config import SimulatorConfig
from simulator.server import Simulator

__all__ = ["Simulator", "SimulatorConfig"]
