using Microsoft.AspNetCore.Http;
using Res2Net.Runtime.IO;

namespace Res2Net.Serving;

/// <summary>
/// A request the server answers with an error instead of a result: the status code and the one sentence its JSON body
/// (<c>{"error": "…"}</c>, the Open Inference Protocol's error object) says. Thrown anywhere while a request is handled
/// and written by <see cref="RequestHandling"/>; the server goes on serving.
/// </summary>
public sealed class ServingError : Exception
{
    public ServingError(int statusCode, string message, TimeSpan? retryAfter = null) : base(message)
    {
        StatusCode = statusCode;
        RetryAfter = retryAfter;
    }

    /// <summary>The HTTP status: 400 bad input, 404 unknown model or path, 405, 413, 415, 503 queue full or stopping, 504 deadline.</summary>
    public int StatusCode { get; }

    /// <summary>For 503: when to try again (the <c>Retry-After</c> header, in whole seconds).</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>400: the request is malformed or does not fit the model; <paramref name="message"/> names the field.</summary>
    public static ServingError BadRequest(string message) => new(StatusCodes.Status400BadRequest, message);

    /// <summary>404 for a model the server does not serve, listing those it does.</summary>
    public static ServingError UnknownModel(string name, IEnumerable<string> served) =>
        new(StatusCodes.Status404NotFound, $"unknown model '{DisplayText.Shorten(name)}'; this server serves {string.Join(", ", served)}");

    /// <summary>503 with <c>Retry-After</c>: the model's queue holds <paramref name="capacity"/> requests already.</summary>
    public static ServingError QueueFull(string model, int capacity, TimeSpan retryAfter) =>
        new(StatusCodes.Status503ServiceUnavailable,
            $"{model} is at capacity: {capacity} requests are waiting (--queue {capacity}); try again after {Seconds(retryAfter)} s", retryAfter);

    /// <summary>504: the request's deadline passed before its result was ready.</summary>
    public static ServingError DeadlineExceeded(string model, TimeSpan timeout) =>
        new(StatusCodes.Status504GatewayTimeout,
            $"{model} did not answer within the request's deadline of {timeout.TotalMilliseconds:0} ms (--timeout-ms); the server is overloaded or the batch too large");

    /// <summary>503: the server is stopping and takes no new work (what is in flight is finished).</summary>
    public static ServingError ShuttingDown() =>
        new(StatusCodes.Status503ServiceUnavailable, "the server is shutting down; send the request to another replica", TimeSpan.FromSeconds(1));

    /// <summary>The <c>Retry-After</c> value: whole seconds, at least 1.</summary>
    internal static int Seconds(TimeSpan t) => Math.Max(1, (int)Math.Ceiling(t.TotalSeconds));
}
