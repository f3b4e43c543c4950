using Res2Net.Runtime.Download;
using Res2Net.Runtime.IO;
using Xunit;
using static Res2Net.Tests.Download.DownloadTests;

namespace Res2Net.Tests.Download;

/// <summary>
/// What a download leaves behind when it stops early: nothing. Cancelled midway, or failing to write the temporary
/// file (a full disk, which is not retried), the cache folder is as before. The temporary file is
/// <see cref="AtomicFileWriter"/>'s (see AtomicFileWriterTests).
/// </summary>
[Collection(ProcessEnvironment.Name)]
public class DownloadCleanupTests
{
    [Fact]
    public async Task CancelledMidwayLeavesNoPartialFile()
    {
        using var server = new LocalHttpServer((_, _) => new LocalHttpServer.Reply(200, Checkpoint) { StallAfter = 4096 });
        string cache = NewCache();
        using var cancel = new CancellationTokenSource();
        string[] seenDuringDownload = [];
        var progress = new Callback(p =>
        {
            // Bytes are in the temporary file: stop here, as Ctrl-C would.
            seenDuringDownload = Directory.GetFiles(cache);
            cancel.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CheckpointDownloader.DownloadAsync(
            $"{server.BaseUrl}/{FileName}", Path.Combine(cache, FileName), Prefix, Options(cache) with { Progress = progress }, cancel.Token));

        var partial = Assert.Single(seenDuringDownload);
        Assert.EndsWith(".partial", partial);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public void FullDiskIsNotRetriedAndLeavesNothing()
    {
        using var server = new LocalHttpServer((_, _) => new LocalHttpServer.Reply(200, Checkpoint));
        string cache = NewCache();
        string url = $"{server.BaseUrl}/{FileName}";
        string target = Path.Combine(cache, FileName);

        CheckpointDownloadException? e = null;
        AtomicFileWriter.WithStreamWrapper(file => new NoSpaceStream(file),
            () => e = Assert.Throws<CheckpointDownloadException>(() => CheckpointDownloader.Download(url, target, Prefix, Options(cache))));

        Assert.Contains($"could not download {url}: {target}: cannot write: no space left on the device", e!.Message);
        Assert.DoesNotContain("attempts", e.Message);
        Assert.Single(server.Requests);
        Assert.Empty(Directory.GetFiles(cache));
    }

    private sealed class Callback(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }

    /// <summary>The write error a full disk gives on Linux (ENOSPC, errno 28, as .NET reports it).</summary>
    private sealed class NoSpaceStream(Stream file) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => file.Length;
        public override long Position { get => file.Position; set => throw new NotSupportedException(); }
        public override void Flush() => file.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => file.SetLength(value);
        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("No space left on device", 28);
    }
}
