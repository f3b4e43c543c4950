using System.Diagnostics;
using System.Runtime.InteropServices;
using Res2Net.Runtime.Download;
using Res2Net.Tests.Download;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary>
/// The <c>res2net</c> process interrupted while it downloads (SIGTERM from a service manager, SIGINT from Ctrl-C):
/// it deletes its partial file, says so, and ends as the signal asks (exit 128 + the signal's number). The server on
/// 127.0.0.1 sends 256 KiB and then stalls, so the download is surely in progress when the signal comes.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public class DownloadSignalTests
{
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    [Theory]
    [InlineData(15)] // SIGTERM
    [InlineData(2)] // SIGINT, what Ctrl-C sends
    public async Task SignalDuringDownloadDeletesThePartialFile(int signal)
    {
        if (!OperatingSystem.IsLinux()) return;
        using var server = new LocalHttpServer((_, _) => new LocalHttpServer.Reply(200, new byte[1 << 20]) { StallAfter = 256 << 10 },
            maxRequests: 2, lifetime: TimeSpan.FromSeconds(90), connectionTimeout: TimeSpan.FromSeconds(60));
        string home = TempFolders.Create("res2net-home-").FullName;
        string checkpoints = Path.Combine(home, "checkpoints");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "res2net.dll"), "predict", Fixtures.Path("images", "demo", "dog.jpg"), "--model", DownloadTests.W14 },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            Environment =
            {
                [CheckpointCache.HomeVariable] = home,
                [CheckpointCache.DownloadBaseVariable] = server.BaseUrl,
                [CheckpointCache.StallTimeoutVariable] = "60",
            },
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        try
        {
            // The partial file holds the first bytes (past the file's 64 KiB buffer): the download is under way.
            var waited = Stopwatch.StartNew();
            while (!(Directory.Exists(checkpoints) && Directory.GetFiles(checkpoints, "*.partial").Any(f => new FileInfo(f).Length > 0)))
            {
                if (process.HasExited) Assert.Fail($"res2net ended before downloading: {await stderr}");
                if (waited.Elapsed > TimeSpan.FromSeconds(60))
                {
                    process.Kill();
                    Assert.Fail($"no partial file appeared within 60 s: {await stderr}");
                }
                await Task.Delay(50);
            }

            Assert.Equal(0, kill(process.Id, signal));

            using (var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
                await process.WaitForExitAsync(patience.Token); // throws if res2net does not end within 30 s of the signal
            Assert.Equal(128 + signal, process.ExitCode);
            Assert.Empty(Directory.GetFiles(checkpoints));
            Assert.Contains("download interrupted; the partial file was deleted", await stderr);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }
}
