from datetime import timedelta

from bot import commands
from tests.conftest import World


async def test_explore(world: World) -> None:
    ref = await world.onboard()
    print(await commands.show_schedule(world.app, world.service_id, ref))
    print(await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00"))
    world.clock.advance(timedelta(hours=1))
    print(await world.deliver())
    for t in ["1", "yes", "2", "1", "1", "1", "hello blue kettle"]:
        r = await world.say("+447700900123", t)
        print(r)
        print(await world.deliver())
    print(await commands.list_alerts(world.app, world.service_id, False))
    print(await commands.read_inbox(world.app, world.idva))
