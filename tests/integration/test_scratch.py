from datetime import timedelta, datetime, UTC
from bot import commands
from tests.conftest import World

async def statuses(world, ref):
    shown = await commands.show_case(world.app, world.service_id, ref, world.idva)
    return [(c["slot"], c["status"]) for c in shown["checkins"]]

async def test_downtime(world: World) -> None:
    ref = await world.onboard(windows="1")
    print(await commands.set_schedule(world.app, world.service_id, ref, "daily@10:00"))
    world.clock.set(datetime(2026, 11, 26, 10, 30, tzinfo=UTC))
    print(await world.deliver())
    print(await statuses(world, ref))
    print(await commands.show_schedule(world.app, world.service_id, ref))

async def test_dst(world: World) -> None:
    world.clock.set(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    ref = await world.onboard(windows="00:00-03:00")
    print(await commands.set_schedule(world.app, world.service_id, ref, "daily@01:30"))
    t = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    while t < datetime(2026, 10, 25, 5, 0, tzinfo=UTC):
        world.clock.set(t)
        got = await world.deliver()
        if got:
            print(t, got)
            for a in ["1","1","1","1","1","1","SKIP"]:
                await world.say("+447700900123", a)
            print(await world.deliver())
        t += timedelta(minutes=5)
    print(await statuses(world, ref))
