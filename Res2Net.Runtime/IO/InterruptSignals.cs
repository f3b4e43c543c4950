using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Res2Net.Runtime.IO;

/// <summary>
/// The process's one handler for SIGINT (Ctrl-C), SIGTERM, SIGHUP and SIGQUIT. .NET runs every registration for a
/// signal with one shared context, in no set order, so separate registrations cannot agree on whether the signal ends
/// the process: one deleting temporary files as if it did, while another cancels it, would pull a file from under a
/// writer that goes on (and then fails to rename it). Here one handler decides:
/// <list type="bullet">
/// <item>While a <see cref="CancelOnSignal"/> scope is open, the first SIGINT, SIGTERM or SIGHUP cancels the scope's
/// token instead of ending the process, so that the operation cleans up after itself and its caller ends as it
/// chooses (the CLI: 128 + <see cref="Scope.Signal"/>).</item>
/// <item>Otherwise, and for a further signal or SIGQUIT, the signal ends the process without running finally blocks,
/// so every temporary file registered with <see cref="Track"/> is deleted first; the signal's usual ending follows
/// (exit code 130 for Ctrl-C).</item>
/// </list>
/// </summary>
public static class InterruptSignals
{
    /// <summary>Temporary files not yet renamed or deleted.</summary>
    private static readonly ConcurrentDictionary<string, byte> Temporary = new(StringComparer.Ordinal);

    private static readonly List<Scope> Scopes = new();

    private static readonly Lazy<PosixSignalRegistration[]> Registrations = new(Register);

    /// <summary>
    /// Opens a scope in which the first SIGINT, SIGTERM or SIGHUP cancels <see cref="Scope.Token"/> and lets the process
    /// go on. Dispose it when the operation is over.
    /// </summary>
    public static Scope CancelOnSignal()
    {
        _ = Registrations.Value;
        var scope = new Scope();
        lock (Scopes) Scopes.Add(scope);
        return scope;
    }

    /// <summary>Deletes <paramref name="path"/> if a signal ends the process before <see cref="Untrack"/>.</summary>
    internal static void Track(string path)
    {
        _ = Registrations.Value;
        Temporary.TryAdd(path, 0);
    }

    /// <summary>The file was renamed or deleted by its owner.</summary>
    internal static void Untrack(string path) => Temporary.TryRemove(path, out _);

    /// <summary>What a signal does; see the class summary. Called by the registrations, and by tests with their own context.</summary>
    internal static void Handle(PosixSignalContext context)
    {
        if (context.Signal != PosixSignal.SIGQUIT)
        {
            Scope[] open;
            lock (Scopes) open = Scopes.ToArray();
            bool interrupted = false;
            foreach (var scope in open) interrupted |= scope.Interrupt(context.Signal);
            if (interrupted)
            {
                context.Cancel = true; // the scope's owner cleans up, then ends the process itself
                return;
            }
        }
        foreach (string temporary in Temporary.Keys)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    private static PosixSignalRegistration[] Register()
    {
        var registrations = new List<PosixSignalRegistration>();
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
        {
            try
            {
                registrations.Add(PosixSignalRegistration.Create(signal, Handle));
            }
            catch (PlatformNotSupportedException)
            {
            }
        }
        return registrations.ToArray();
    }

    /// <summary>An operation that a signal cancels instead of ending the process; see <see cref="CancelOnSignal"/>.</summary>
    public sealed class Scope : IDisposable
    {
        private readonly CancellationTokenSource _cancel = new();
        private int _signal;

        internal Scope()
        {
        }

        /// <summary>Cancelled when the first signal arrives.</summary>
        public CancellationToken Token => _cancel.Token;

        /// <summary>The signal's number on Linux (2 for SIGINT, 15 for SIGTERM, 1 for SIGHUP) once one arrived; else 0.</summary>
        public int Signal => Volatile.Read(ref _signal);

        /// <summary>Takes the first signal (true); a later one is left to end the process (false).</summary>
        internal bool Interrupt(PosixSignal signal)
        {
            int number = signal switch { PosixSignal.SIGINT => 2, PosixSignal.SIGTERM => 15, _ => 1 };
            if (Interlocked.CompareExchange(ref _signal, number, 0) != 0) return false;
            _cancel.Cancel();
            return true;
        }

        /// <summary>Signals end the process again. The token source is left to the GC: it holds no timer, and a handler still running must not find it disposed.</summary>
        public void Dispose()
        {
            lock (Scopes) Scopes.Remove(this);
        }
    }
}
