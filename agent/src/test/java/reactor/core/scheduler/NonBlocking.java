package reactor.core.scheduler;

/** Stands in for Reactor's marker of threads that must not block: only its name matters to the agent. */
public interface NonBlocking {
}
