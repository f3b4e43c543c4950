using Microsoft.Extensions.Logging;

namespace Res2Net.Serving;

/// <summary>
/// The server's log events, as structured messages: each placeholder is a field of its own in the JSON log
/// (<c>--log-format json</c>), so a collector can filter on <c>Model</c> or <c>Status</c> without parsing text.
/// </summary>
internal static partial class ServingLog
{
    public const string Category = "Res2Net.Serving";

    [LoggerMessage(1, LogLevel.Information,
        "Serving {Model}: input [N, 3, {Height}, {Width}] FP32, {Classes} classes; batches of up to {MaxBatch} images gathered for {MaxDelayMs} ms; queue {Queue} requests; deadline {TimeoutMs} ms")]
    public static partial void ModelServed(ILogger log, string model, int height, int width, int classes, int maxBatch, double maxDelayMs, int queue, double timeoutMs);

    [LoggerMessage(2, LogLevel.Information, "Listening on {Urls}; request bodies up to {MaxBodyBytes} bytes")]
    public static partial void Listening(ILogger log, string urls, long maxBodyBytes);

    [LoggerMessage(3, LogLevel.Information, "Stopping: no new connections; finishing the requests in flight (up to {ShutdownTimeoutSeconds} s)")]
    public static partial void Stopping(ILogger log, double shutdownTimeoutSeconds);

    [LoggerMessage(4, LogLevel.Information, "Stopped: every queue is empty")]
    public static partial void Stopped(ILogger log);

    [LoggerMessage(5, LogLevel.Debug, "{Model}: ran a batch of {Images} images from {Requests} requests in {Milliseconds:0.0} ms")]
    public static partial void BatchRan(ILogger log, string model, int images, int requests, double milliseconds);

    [LoggerMessage(6, LogLevel.Error, "{Model}: the forward of a batch of {Images} images failed")]
    public static partial void ForwardFailed(ILogger log, Exception error, string model, int images);

    [LoggerMessage(7, LogLevel.Debug, "{Method} {Path} {Status} in {Milliseconds:0.0} ms")]
    public static partial void Answered(ILogger log, string method, string path, int status, double milliseconds);

    [LoggerMessage(8, LogLevel.Information, "{Method} {Path} {Status}: {Error}")]
    public static partial void Refused(ILogger log, string method, string path, int status, string error);

    [LoggerMessage(9, LogLevel.Warning, "{Method} {Path} {Status}: {Error}")]
    public static partial void Overloaded(ILogger log, string method, string path, int status, string error);

    [LoggerMessage(10, LogLevel.Error, "{Method} {Path} failed with an internal error")]
    public static partial void Failed(ILogger log, Exception error, string method, string path);

    [LoggerMessage(11, LogLevel.Debug, "{Method} {Path} {Status}: {Error}")]
    public static partial void Shed(ILogger log, string method, string path, int status, string error);

    [LoggerMessage(12, LogLevel.Information, "{Model}: warmed up (a forward of {Images} blank images in {Milliseconds:0} ms)")]
    public static partial void WarmedUp(ILogger log, string model, int images, double milliseconds);
}
