using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Xunit;

namespace Res2Net.Tests.Serving;

/// <summary>
/// <c>res2net serve</c> as its own process, started from the built CLI beside the test assembly: started, read until it
/// says where it listens, and ended by a signal, as a service manager or Kubernetes ends it.
/// </summary>
internal sealed class ServeProcess : IAsyncDisposable
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly Task _stderrDone;

    private ServeProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
        _stderrDone = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                lock (_stderr) _stderr.AppendLine(line);
            }
        });
    }

    public Uri Url { get; }

    public Process Process => _process;

    /// <summary>The log so far (standard error).</summary>
    public string Log
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    /// <summary>Starts <c>res2net ARGS</c> and waits (at most 90 s) for its "listening on" line.</summary>
    public static async Task<ServeProcess> StartAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "res2net.dll"));
        foreach (string arg in args) start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            while (true)
            {
                string? line = await process.StandardOutput.ReadLineAsync(patience.Token);
                if (line == null)
                {
                    await process.WaitForExitAsync(patience.Token);
                    Assert.Fail($"res2net serve ended (exit {process.ExitCode}) before listening: {await process.StandardError.ReadToEndAsync()}");
                }
                const string Prefix = "res2net serve: listening on ";
                if (line.StartsWith(Prefix, StringComparison.Ordinal))
                {
                    _ = process.StandardOutput.ReadToEndAsync();
                    return new ServeProcess(process, new Uri(line[Prefix.Length..]));
                }
            }
        }
        catch
        {
            if (!process.HasExited) process.Kill();
            process.Dispose();
            throw;
        }
    }

    public void Signal(int signal) => Assert.Equal(0, kill(_process.Id, signal));

    /// <summary>Waits (at most 30 s) for the process to end; returns its exit code.</summary>
    public async Task<int> ExitAsync()
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(patience.Token);
        await _stderrDone.WaitAsync(patience.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
