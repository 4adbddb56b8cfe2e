/**
 * Plans pages, one ahead: the next page is planned while this page's batches are embedded and
 * written, so the embedding queue does not run dry at page boundaries. Never across a
 * continue-as-new: the loop plans ahead only when this run goes on, and continues as new only
 * with no plan in flight. (Runs recorded before plan-ahead existed replay with it off.)
 */
export class PagePlanner<P> {
  private ahead: Promise<P> | undefined;

  constructor(
    private readonly enabled: boolean,
    private readonly planPage: (pageNo: number, cursor: string | null) => Promise<P>,
  ) {}

  /** The plan of this page: the one planned ahead, else planned now. */
  next(pageNo: number, cursor: string | null): Promise<P> {
    const p = this.ahead ?? this.plan(pageNo, cursor);
    this.ahead = undefined;
    return p;
  }

  /** Starts planning the next page now (when plan-ahead is on). */
  planAhead(pageNo: number, cursor: string): void {
    if (this.enabled) this.ahead = this.plan(pageNo, cursor);
  }

  get hasAhead(): boolean {
    return this.ahead !== undefined;
  }

  private plan(pageNo: number, cursor: string | null): Promise<P> {
    const p = this.planPage(pageNo, cursor);
    p.catch(() => undefined); // awaited by next(); this only keeps a failure while waiting from counting as unhandled
    return p;
  }
}
