package dev.tokenguard.instrumentation;

import java.util.Spliterator;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A spliterator that shows every element of a source to a {@link StreamObserver}, skips the ones
 * the observer hides, and tells the observer once when the source is exhausted or fails.
 */
public final class ObservedSpliterator<T> implements Spliterator<T>, Consumer<T> {
    private final Spliterator<T> source;
    private final StreamObserver observer;
    private final AtomicBoolean ended;
    private T current;

    /**
     * @param ended shared with whoever else may end the observation (a close), so that it ends once
     */
    public ObservedSpliterator(Spliterator<T> source, StreamObserver observer, AtomicBoolean ended) {
        this.source = source;
        this.observer = observer;
        this.ended = ended;
    }

    @Override
    public boolean tryAdvance(Consumer<? super T> action) {
        while (true) {
            boolean advanced;
            try {
                advanced = source.tryAdvance(this);
            } catch (RuntimeException | Error e) {
                end(e);
                throw e;
            }
            if (!advanced) {
                if (!ended.get()) {
                    Callbacks.run("stream.exhausted", observer::onExhausted);
                }
                end(null);
                return false;
            }
            T element = current;
            current = null;
            if (visible(element)) {
                action.accept(element);
                return true;
            }
        }
    }

    private boolean visible(T element) {
        return Callbacks.get("stream.element", () -> {
            dev.tokenguard.core.InjectedFault.at("stream");
            return observer.onElement(element);
        }, Boolean.TRUE);
    }

    private void end(Throwable error) {
        if (ended.compareAndSet(false, true)) {
            Callbacks.run("stream.end", () -> observer.onEnd(error));
        }
    }

    @Override
    public void accept(T element) {
        current = element;
    }

    @Override
    public Spliterator<T> trySplit() {
        return null;
    }

    @Override
    public long estimateSize() {
        return source.estimateSize();
    }

    @Override
    public int characteristics() {
        return source.characteristics() & (ORDERED | NONNULL | IMMUTABLE | CONCURRENT);
    }
}
