using System.Runtime.InteropServices;

namespace Res2Net.Cli.Commands;

/// <summary>
/// Turns SIGINT (Ctrl-C; this is also what <c>Console.CancelKeyPress</c> listens to), SIGTERM and SIGHUP into a
/// cancellation of the download while one runs, so that the download deletes its partial file before the process
/// ends. The signal's own ending is deferred, not lost: after the clean-up <see cref="Exit"/> ends the process with
/// 128 + the signal's number, as a shell expects. A second signal ends the process at once.
/// </summary>
internal sealed class DownloadInterruption : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _signal;

    public DownloadInterruption()
    {
        _registrations = [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }.Select(s => PosixSignalRegistration.Create(s, OnSignal))];
    }

    /// <summary>Cancelled when a signal arrives.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>The signal's number (2 for SIGINT, 15 for SIGTERM, 1 for SIGHUP) once one arrived; else 0.</summary>
    public int Signal => Volatile.Read(ref _signal);

    private void OnSignal(PosixSignalContext context)
    {
        int number = context.Signal switch { PosixSignal.SIGINT => 2, PosixSignal.SIGTERM => 15, _ => 1 };
        // The first signal waits for the clean-up; a second one takes the signal's default action (ends the process).
        context.Cancel = Interlocked.CompareExchange(ref _signal, number, 0) == 0;
        _cancel.Cancel();
    }

    /// <summary>Says what happened on <paramref name="stderr"/> and ends the process as the signal asked.</summary>
    public void Exit(TextWriter stderr)
    {
        stderr.WriteLine("res2net: download interrupted; the partial file was deleted.");
        stderr.Flush();
        Environment.Exit(128 + Signal);
    }

    public void Dispose()
    {
        // The token source is left to the GC: it holds no timer, and a handler still running must not find it disposed.
        foreach (var registration in _registrations) registration.Dispose();
    }
}
